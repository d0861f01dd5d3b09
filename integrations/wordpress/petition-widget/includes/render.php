<?php
/**
 * What the shortcode, the block and a bare hosted-petition URL become: the snippet the service
 * documents (a link to the hosted petition, then the loader, which replaces the link with the
 * petition), or with load="click" a card that asks nothing of the service until the reader
 * clicks. Never anything about the reader in what goes to the service.
 *
 * @package PetitionWidget
 */

defined( 'ABSPATH' ) || exit;

/**
 * The [petition] shortcode.
 *
 * @param array|string $atts The shortcode's attributes ('' when it has none).
 */
function petition_widget_shortcode( $atts ) {
	return petition_widget_render( is_array( $atts ) ? $atts : array() );
}

/**
 * The Petition block, rendered on the server with the same options.
 *
 * @param array $attributes The block's attributes.
 */
function petition_widget_block( $attributes ) {
	$html = petition_widget_render( is_array( $attributes ) ? $attributes : array() );
	return '' === $html ? '' : '<div ' . get_block_wrapper_attributes() . '>' . $html . '</div>';
}

/**
 * The options, checked, or a message that says what is wrong with them.
 *
 * @param array $atts campaign, partner, lang, mode ("form" or "counter"), load ("page" or "click"), title.
 * @return array|string
 */
function petition_widget_options( $atts ) {
	$options = array();
	foreach ( array( 'campaign', 'partner', 'lang', 'mode', 'load', 'title' ) as $name ) {
		$options[ $name ] = isset( $atts[ $name ] ) ? trim( (string) $atts[ $name ] ) : '';
	}
	$options['campaign'] = strtolower( $options['campaign'] );
	$options['partner']  = strtolower( $options['partner'] );
	$options['lang']     = strtolower( $options['lang'] );
	$options['mode']     = '' === $options['mode'] ? 'form' : strtolower( $options['mode'] );
	$options['load']     = '' === $options['load'] ? get_option( 'petition_widget_load', 'page' ) : strtolower( $options['load'] );

	if ( '' === petition_widget_service() ) {
		return __( 'Set the petition service’s address in Settings → Petition widget first.', 'petition-widget' );
	}
	if ( '' === $options['campaign'] ) {
		return __( 'Say which campaign to show: campaign="slug", the name at the end of the petition’s address (…/c/slug).', 'petition-widget' );
	}
	if ( ! preg_match( PETITION_WIDGET_SLUG, $options['campaign'] ) ) {
		/* translators: %s: what was given as the campaign. */
		return sprintf( __( '“%s” is not a campaign: use the name at the end of the petition’s address (lower-case letters, digits and hyphens).', 'petition-widget' ), $options['campaign'] );
	}
	if ( '' !== $options['partner'] && ! preg_match( PETITION_WIDGET_PARTNER, $options['partner'] ) ) {
		/* translators: %s: what was given as the partner code. */
		return sprintf( __( '“%s” is not a partner code: use the code the campaign gave you (lower-case letters, digits and hyphens, up to 32).', 'petition-widget' ), $options['partner'] );
	}
	if ( '' !== $options['lang'] && ! in_array( $options['lang'], PETITION_WIDGET_LANGUAGES, true ) ) {
		/* translators: %s: the languages offered. */
		return sprintf( __( 'lang must be one of %s, or left out.', 'petition-widget' ), implode( ', ', PETITION_WIDGET_LANGUAGES ) );
	}
	if ( ! in_array( $options['mode'], array( 'form', 'counter' ), true ) ) {
		return __( 'mode must be "form" (the petition) or "counter" (only the count).', 'petition-widget' );
	}
	if ( ! in_array( $options['load'], array( 'page', 'click' ), true ) ) {
		return __( 'load must be "page" (the petition loads with the page) or "click" (only when the reader clicks).', 'petition-widget' );
	}
	if ( ! is_readable( petition_widget_path( 'includes/texts.php' ) ) || ! is_readable( petition_widget_path( 'assets/embed.js' ) ) ) {
		return __( 'This copy of the plugin is incomplete: install the zip that the petition service’s release builds (scripts/build-wordpress-plugin).', 'petition-widget' );
	}
	return $options;
}

/**
 * A file of the plugin.
 *
 * @param string $name Its path inside the plugin.
 */
function petition_widget_path( $name ) {
	return plugin_dir_path( PETITION_WIDGET_FILE ) . $name;
}

/**
 * The HTML for one petition.
 *
 * @param array $atts The options as given.
 */
function petition_widget_render( $atts ) {
	$options = petition_widget_options( $atts );
	if ( is_string( $options ) ) {
		return petition_widget_problem( $options );
	}
	$texts = petition_widget_texts( $options['lang'] );
	$query = array();
	if ( '' !== $options['partner'] && 'form' === $options['mode'] ) {
		$query['partner'] = $options['partner'];
	}
	if ( '' !== $options['lang'] ) {
		$query['lang'] = $options['lang'];
	}
	$hosted = petition_widget_service() . '/c/' . $options['campaign'] . ( $query ? '?' . http_build_query( $query, '', '&' ) : '' );
	$data   = array(
		'data-campaign' => $options['campaign'],
		'data-partner'  => $options['partner'],
		'data-lang'     => $options['lang'],
		'data-mode'     => 'counter' === $options['mode'] ? 'counter' : '',
		'data-load'     => 'click' === $options['load'] ? 'click' : '',
		'data-title'    => 'page' === $options['load'] ? $options['title'] : '',
	);

	if ( 'page' === $options['load'] ) {
		wp_enqueue_script( 'petition-widget-loader' );
		return '<a class="petition-widget-link" href="' . esc_url( $hosted ) . '"' . petition_widget_attributes( $data ) . '>' . esc_html( $texts['sign'] ) . '</a>';
	}

	// Click-to-load: the numbers come from WordPress's cache of the service's counter.
	wp_enqueue_style( 'petition-widget' );
	$campaign = petition_widget_campaign( $options['campaign'] );
	$title    = '' !== $options['title'] ? $options['title'] : ( $campaign ? $campaign['title'] : '' );
	$count    = $campaign ? petition_widget_count_html( $campaign['count'], $options['lang'], $texts ) : '';
	if ( 'counter' === $options['mode'] ) {
		return '<p class="petition-widget-count">' . ( '' !== $count ? $count . ' ' : '' )
			. '<a href="' . esc_url( $hosted ) . '">' . esc_html( $texts['sign'] ) . '</a></p>';
	}
	wp_enqueue_script( 'petition-widget-loader' );
	return '<div class="petition-widget-card">'
		. ( '' !== $title ? '<p class="petition-widget-card-title">' . esc_html( $title ) . '</p>' : '' )
		. ( '' !== $count ? '<p class="petition-widget-card-count">' . $count . '</p>' : '' )
		. '<a class="petition-widget-card-button" href="' . esc_url( $hosted ) . '"' . petition_widget_attributes( $data ) . '>' . esc_html( $texts['sign'] ) . '</a>'
		. '</div>';
}

/**
 * HTML attributes, the empty ones left out.
 *
 * @param array $data Names and values.
 */
function petition_widget_attributes( $data ) {
	$html = '';
	foreach ( $data as $name => $value ) {
		if ( '' !== $value ) {
			$html .= ' ' . $name . '="' . esc_attr( $value ) . '"';
		}
	}
	return $html;
}

/**
 * What a misconfigured petition shows: the reason, to those who can edit the post; nothing
 * to readers.
 *
 * @param string $message What is wrong.
 */
function petition_widget_problem( $message ) {
	if ( ! current_user_can( 'edit_posts' ) ) {
		return '';
	}
	return '<p class="petition-widget-problem" role="note" style="border:2px solid #b32d2e;padding:.5em 1em">'
		. '<strong>' . esc_html__( 'Petition not shown:', 'petition-widget' ) . '</strong> ' . esc_html( $message ) . '</p>';
}

/**
 * The reader-facing texts in a language, from the service's own translations (texts.php is
 * written from them when the plugin is built). Without a language, the site's.
 *
 * @param string $lang en, fr, be, ru or ''.
 */
function petition_widget_texts( $lang ) {
	static $all = null;
	if ( null === $all ) {
		$all = require petition_widget_path( 'includes/texts.php' );
	}
	if ( '' === $lang ) {
		$lang = substr( determine_locale(), 0, 2 );
	}
	$texts         = isset( $all[ $lang ] ) ? $all[ $lang ] : $all['en'];
	$texts['lang'] = isset( $all[ $lang ] ) ? $lang : 'en';
	return $texts;
}

/**
 * "785 people have taken action", the number in bold, as the service's counter says it.
 *
 * @param int    $count The count.
 * @param string $lang  The language asked for ('' for the site's).
 * @param array  $texts The texts of that language.
 */
function petition_widget_count_html( $count, $lang, $texts ) {
	$forms = $texts['count'];
	$form  = $forms[ min( petition_widget_plural( $texts['lang'], $count ), count( $forms ) - 1 ) ];
	$parts = explode( '%s', $form, 2 );
	$shown = petition_widget_number( $texts, $count );
	return esc_html( $parts[0] ) . '<strong>' . esc_html( $shown ) . '</strong>' . esc_html( isset( $parts[1] ) ? $parts[1] : '' );
}

/**
 * Which plural form a count takes (CLDR's rules, as the service's translations use them).
 *
 * @param string $lang en, fr, be or ru.
 * @param int    $n    The count.
 */
function petition_widget_plural( $lang, $n ) {
	switch ( $lang ) {
		case 'fr':
			if ( 0 === $n || 1 === $n ) {
				return 0;
			}
			return 0 === $n % 1000000 ? 1 : 2;
		case 'be':
		case 'ru':
			if ( 1 === $n % 10 && 11 !== $n % 100 ) {
				return 0;
			}
			return ( $n % 10 >= 2 && $n % 10 <= 4 && ( $n % 100 < 12 || $n % 100 > 14 ) ) ? 1 : 2;
		default:
			return 1 === $n ? 0 : 1;
	}
}

/**
 * A count written as the service writes it (1,000 in English, 1 000 in the others), with
 * the language's group separator from the service's locale data.
 *
 * @param array $texts The texts of the language.
 * @param int   $n     The count.
 */
function petition_widget_number( $texts, $n ) {
	return number_format( $n, 0, '.', $texts['group'] );
}
